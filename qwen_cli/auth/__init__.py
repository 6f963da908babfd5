"""Who am I talking to: the three methods resolved into one Credentials value."""

# Public API, by submodule: resolve (resolve, choose, inventory), credentials (Credentials), methods (the
# registry), models, verify.
__all__ = ["credentials", "methods", "models", "resolve", "verify"]

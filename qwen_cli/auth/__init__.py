"""Who am I talking to: the three methods resolved into one Credentials value."""

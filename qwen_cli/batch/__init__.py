"""`qwen batch`: many prompts handed to the provider's own Batch API (OpenAI-compatible: a JSONL file uploaded
to /files with purpose `batch`, a job created at /batches, polled, its output and error files downloaded).

support.py decides whether this login may use it (the catalogue's `batch` flag); build.py turns the `--each`
inputs into request lines; api.py is the HTTP client; records.py the local record of each batch under
$QWEN_HOME/batches/; wait.py the polling; results.py turns the output and error files back into `--each`
lines in input order.
"""

# Public API, by submodule: the submodules listed above.
__all__ = ["api", "build", "records", "results", "support", "wait"]

"""A LocalStack Lambda runtime executor that needs no Docker: each execution environment is a
process running the function's own ``bootstrap`` on the host, with the Lambda Runtime API
served to it from LocalStack's process. See ``executor.py``."""

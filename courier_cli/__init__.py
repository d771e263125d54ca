"""`courier`, the workstation command line: API keys, `doctor`, video analysis of local
files, and the local stack. Not part of the Lambda layer: it runs where the operator
is, with the operator's AWS credentials, and may import `infra` and `devstack`."""

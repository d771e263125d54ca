"""Jobs: the messages that name them, the registry of job types, and running one."""

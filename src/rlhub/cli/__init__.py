"""The `rlhub` command line: composition only. Each module registers its commands on the app."""

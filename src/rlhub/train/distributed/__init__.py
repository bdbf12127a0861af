"""Training across machines on torch.distributed: DiLoCo (low-communication data parallelism) and
asynchronous RL with rollout workers separate from the trainer. Launched with `torchrun`."""

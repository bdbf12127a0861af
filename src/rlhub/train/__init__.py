"""Training: SFT and GRPO on any rlhub environment, a tiny from-scratch model, local serving, a TRL adapter.

torch and transformers are imported only inside this package; import the submodules you need
(`rlhub.train.sft`, `rlhub.train.grpo`, `rlhub.train.pipeline`, `rlhub.train.serve`,
`rlhub.train.trl_adapter`). Configs: `rlhub.train.config`.
"""

"""Single-turn addition for the training tests."""

import rlhub
from rlhub import Rubric, Task


def exact(response: str, reference: str) -> bool:
    return response.strip() == str(reference)


def same_length(response: str, reference: str) -> bool:
    """Partial credit an untrained model can earn, so GRPO tests see a signal."""
    return len(response.strip()) == len(str(reference))


@rlhub.environment("testing/add", version="0.1.0")
class Add(rlhub.SingleTurnEnv):
    digits: int = 2
    rubric = Rubric(correct=exact, length=(same_length, 0.5))

    def make_task(self, rng):
        a, b = rng.randint(0, 10**self.digits - 1), rng.randint(0, 10**self.digits - 1)
        return Task(prompt=f"{a}+{b}=", answer=str(a + b))

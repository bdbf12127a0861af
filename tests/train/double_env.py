"""A one-tool multi-turn task for the training tests."""

import json

import rlhub
from rlhub import Message, Rubric, Task


def exact(response: str, reference: str) -> bool:
    return response.strip() == str(reference)


@rlhub.environment("testing/double", version="0.1.0")
class Double(rlhub.ToolEnv):
    """Call `double(x)` then answer with the result."""

    max_turns = 3
    rubric = Rubric(correct=exact)

    def make_task(self, rng):
        x = rng.randint(0, 99)
        return Task(prompt=f"double {x}", answer=str(2 * x), info={"x": x})

    def tools(self, state):
        def double(x: int) -> int:
            """Twice x."""
            return 2 * x

        return [double]

    def oracle(self, task, messages):
        if messages[-1].role == "user":
            call = {"name": "double", "arguments": {"x": task.info["x"]}}
            return Message.assistant(f"<tool_call>{json.dumps(call)}</tool_call>")
        return Message.assistant(messages[-1].content)

"""The stdin/stdout problems: a statement, an input generator and a reference solver for each.

Generators take `(rng, big)` and return the full stdin text; `big` asks for inputs large enough that
only an efficient program finishes in time. Solvers map stdin text to the exact expected stdout and
are self-contained (imports inside), because their source is also the reference program.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    id: str
    difficulty: str
    statement: str
    generate: Callable[[random.Random, bool], str]
    solve: Callable[[str], str]


PROBLEMS: list[Problem] = []


def problem(id: str, difficulty: str, statement: str, generate: Callable[[random.Random, bool], str]):
    """Register the decorated solver with its statement and generator."""

    def register(solve: Callable[[str], str]) -> Callable[[str], str]:
        PROBLEMS.append(Problem(id, difficulty, statement, generate, solve))
        return solve

    return register


def _ints(rng: random.Random, n: int, low: int, high: int) -> str:
    return " ".join(str(rng.randint(low, high)) for _ in range(n))


def _n(rng: random.Random, big: bool, small: int, large: int) -> int:
    return rng.randint(1, large if big else small)


def _word(rng: random.Random, low: int = 1, high: int = 8, letters: str = "abcdefghijklmnopqrstuvwxyz") -> str:
    return "".join(rng.choice(letters) for _ in range(rng.randint(low, high)))


# --- easy -------------------------------------------------------------------------------------------


def _gen_list(rng: random.Random, big: bool) -> str:
    n = _n(rng, big, 10, 100_000)
    return f"{n}\n{_ints(rng, n, -1000, 1000)}\n"


@problem("sum-list", "easy", "The first line holds n; the second holds n integers. Print their sum.", _gen_list)
def solve_sum_list(data: str) -> str:
    tokens = data.split()
    n = int(tokens[0])
    return f"{sum(int(t) for t in tokens[1 : n + 1])}\n"


@problem(
    "max-min",
    "easy",
    "The first line holds n (n >= 1); the second holds n integers. Print the largest and the smallest, "
    "separated by a space.",
    _gen_list,
)
def solve_max_min(data: str) -> str:
    tokens = data.split()
    values = [int(t) for t in tokens[1 : int(tokens[0]) + 1]]
    return f"{max(values)} {min(values)}\n"


@problem(
    "even-odd",
    "easy",
    "The first line holds n; the second holds n integers. Print how many are even and how many are odd, "
    "separated by a space.",
    _gen_list,
)
def solve_even_odd(data: str) -> str:
    tokens = data.split()
    values = [int(t) for t in tokens[1 : int(tokens[0]) + 1]]
    even = sum(1 for v in values if v % 2 == 0)
    return f"{even} {len(values) - even}\n"


@problem(
    "sort-numbers",
    "easy",
    "The first line holds n; the second holds n integers. Print them in ascending order on one line, "
    "separated by single spaces.",
    _gen_list,
)
def solve_sort_numbers(data: str) -> str:
    tokens = data.split()
    values = sorted(int(t) for t in tokens[1 : int(tokens[0]) + 1])
    return " ".join(map(str, values)) + "\n"


def _gen_lines(rng: random.Random, big: bool) -> str:
    n = _n(rng, big, 6, 20_000)
    return f"{n}\n" + "".join(_word(rng) + "\n" for _ in range(n))


@problem(
    "reverse-lines",
    "easy",
    "The first line holds n, followed by n lines of text. Print the n lines in reverse order.",
    _gen_lines,
)
def solve_reverse_lines(data: str) -> str:
    lines = data.split("\n")
    n = int(lines[0])
    return "".join(line + "\n" for line in reversed(lines[1 : n + 1]))


def _gen_text(rng: random.Random, big: bool) -> str:
    words = [_word(rng, 1, 6, "abcab") for _ in range(_n(rng, big, 12, 50_000))]
    spaces = [rng.choice([" ", " ", "  ", "\t"]) for _ in words]
    return "".join(w + s for w, s in zip(words, spaces, strict=True)).strip() + "\n"


@problem(
    "count-words",
    "easy",
    "Read one line of text. Print the number of words in it (words are separated by spaces or tabs).",
    _gen_text,
)
def solve_count_words(data: str) -> str:
    return f"{len(data.split())}\n"


def _gen_palindromes(rng: random.Random, big: bool) -> str:
    t = _n(rng, big, 6, 20_000)
    lines = []
    for _ in range(t):
        w = _word(rng, 1, 5, "abc")
        lines.append(w + w[::-1][rng.randint(0, 1) :] if rng.random() < 0.5 else w)
    return f"{t}\n" + "".join(line + "\n" for line in lines)


@problem(
    "palindromes",
    "easy",
    "The first line holds t, followed by t lines each holding one lower-case word. For each word print "
    "YES if it reads the same backwards, else NO.",
    _gen_palindromes,
)
def solve_palindromes(data: str) -> str:
    words = data.split()[1:]
    return "".join(("YES" if w == w[::-1] else "NO") + "\n" for w in words)


def _gen_fizzbuzz(rng: random.Random, big: bool) -> str:
    return f"{_n(rng, big, 40, 100_000)}\n"


@problem(
    "fizzbuzz",
    "easy",
    "Read n. For i = 1..n print one line: Fizz if i is divisible by 3, Buzz if by 5, FizzBuzz if by both, otherwise i.",
    _gen_fizzbuzz,
)
def solve_fizzbuzz(data: str) -> str:
    n = int(data.split()[0])
    out = []
    for i in range(1, n + 1):
        word = ("Fizz" if i % 3 == 0 else "") + ("Buzz" if i % 5 == 0 else "")
        out.append(word or str(i))
    return "\n".join(out) + "\n"


def _gen_letters(rng: random.Random, big: bool) -> str:
    return _word(rng, 1, 200_000 if big else 30, "abcdefghijklmnopqrstuvwxyz" if big else "aeioutsrn") + "\n"


@problem(
    "letter-count",
    "easy",
    "Read one line of lower-case letters. For each letter that occurs, in alphabetical order, print a "
    "line with the letter and its number of occurrences, separated by a space.",
    _gen_letters,
)
def solve_letter_count(data: str) -> str:
    from collections import Counter

    counts = Counter(data.strip())
    return "".join(f"{c} {counts[c]}\n" for c in sorted(counts))


def _gen_big_numbers(rng: random.Random, big: bool) -> str:
    t = _n(rng, big, 5, 5_000)
    return f"{t}\n" + "".join(f"{rng.randint(0, 10 ** rng.randint(1, 60))}\n" for _ in range(t))


@problem(
    "digit-sums",
    "easy",
    "The first line holds t, followed by t lines each holding a non-negative integer of up to 61 digits. "
    "Print the sum of the digits of each.",
    _gen_big_numbers,
)
def solve_digit_sums(data: str) -> str:
    return "".join(f"{sum(int(d) for d in tok)}\n" for tok in data.split()[1:])


def _gen_products(rng: random.Random, big: bool) -> str:
    t = _n(rng, big, 5, 2_000)
    digits = 200 if big else 25
    return f"{t}\n" + "".join(
        f"{rng.randint(-(10**digits), 10**digits)} {rng.randint(0, 10**digits)}\n" for _ in range(t)
    )


@problem(
    "big-products",
    "easy",
    "The first line holds t, followed by t lines each holding two integers a and b (possibly with "
    "hundreds of digits). Print a * b for each line.",
    _gen_products,
)
def solve_big_products(data: str) -> str:
    tokens = data.split()[1:]
    return "".join(f"{int(a) * int(b)}\n" for a, b in zip(tokens[0::2], tokens[1::2], strict=True))


# --- medium -----------------------------------------------------------------------------------------


def _gen_range_sums(rng: random.Random, big: bool) -> str:
    n = _n(rng, big, 8, 100_000)
    q = _n(rng, big, 5, 100_000)
    queries = []
    for _ in range(q):
        left = rng.randint(1, n)
        queries.append(f"{left} {rng.randint(left, n)}")
    return f"{n} {q}\n{_ints(rng, n, -100, 100)}\n" + "\n".join(queries) + "\n"


@problem(
    "range-sums",
    "medium",
    "The first line holds n and q. The second holds n integers a_1..a_n. Each of the next q lines holds "
    "l and r (1 <= l <= r <= n). For each query print a_l + ... + a_r. With up to 10^5 numbers and "
    "queries, answer each query in O(1).",
    _gen_range_sums,
)
def solve_range_sums(data: str) -> str:
    tokens = list(map(int, data.split()))
    n, q = tokens[0], tokens[1]
    prefix = [0]
    for v in tokens[2 : 2 + n]:
        prefix.append(prefix[-1] + v)
    rest = tokens[2 + n :]
    return "".join(f"{prefix[rest[2 * i + 1]] - prefix[rest[2 * i] - 1]}\n" for i in range(q))


def _gen_matrix(rng: random.Random, big: bool) -> str:
    r, c = _n(rng, big, 4, 300), _n(rng, big, 4, 300)
    return f"{r} {c}\n" + "".join(_ints(rng, c, -9, 99) + "\n" for _ in range(r))


@problem(
    "transpose",
    "medium",
    "The first line holds r and c, followed by r lines of c integers: a matrix. Print its transpose: c "
    "lines of r integers separated by single spaces.",
    _gen_matrix,
)
def solve_transpose(data: str) -> str:
    tokens = data.split()
    r, c = int(tokens[0]), int(tokens[1])
    cells = tokens[2:]
    return "".join(" ".join(cells[i * c + j] for i in range(r)) + "\n" for j in range(c))


def _gen_prose(rng: random.Random, big: bool) -> str:
    vocab = [_word(rng, 2, 5) for _ in range(rng.randint(3, 12))]
    lines = []
    for _ in range(_n(rng, big, 5, 10_000)):
        words = [rng.choice(vocab) for _ in range(rng.randint(1, 8))]
        lines.append(
            " ".join(w.capitalize() if rng.random() < 0.2 else w for w in words) + rng.choice([".", ",", "!", ""])
        )
    return "\n".join(lines) + "\n"


@problem(
    "top-words",
    "medium",
    "Read text until the end of input. Words are maximal runs of letters, compared in lower case. Print "
    "the three most frequent words (fewer if there are fewer distinct words), one per line as "
    "'word count', most frequent first, ties broken alphabetically.",
    _gen_prose,
)
def solve_top_words(data: str) -> str:
    import re
    from collections import Counter

    counts = Counter(w.lower() for w in re.findall(r"[A-Za-z]+", data))
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return "".join(f"{w} {c}\n" for w, c in top)


def _gen_brackets(rng: random.Random, big: bool) -> str:
    t = _n(rng, big, 6, 2_000)
    lines = []
    for _ in range(t):
        stack: list[str] = []
        out = []
        for _ in range(rng.randint(0, 400 if big else 10)):
            if stack and rng.random() < 0.45:
                out.append({"(": ")", "[": "]", "{": "}"}[stack.pop()])
            else:
                stack.append(rng.choice("([{"))
                out.append(stack[-1])
        out += [{"(": ")", "[": "]", "{": "}"}[b] for b in reversed(stack)]
        if out and rng.random() < 0.5:
            i = rng.randrange(len(out))
            out[i] = rng.choice("()[]{}")
        lines.append("".join(out) or "()")
    return f"{t}\n" + "\n".join(lines) + "\n"


@problem(
    "brackets",
    "medium",
    "The first line holds t, followed by t non-empty lines made of the characters ()[]{}. For each line "
    "print YES if the brackets are balanced and properly nested, else NO.",
    _gen_brackets,
)
def solve_brackets(data: str) -> str:
    pairs = {")": "(", "]": "[", "}": "{"}
    out = []
    for line in data.split()[1:]:
        stack: list[str] = []
        ok = True
        for ch in line:
            if ch in "([{":
                stack.append(ch)
            elif not stack or stack.pop() != pairs[ch]:
                ok = False
                break
        out.append("YES" if ok and not stack else "NO")
    return "\n".join(out) + "\n"


def _gen_pairs(rng: random.Random, big: bool) -> str:
    t = _n(rng, big, 5, 20_000)
    hi = 10**12 if big else 1000
    return f"{t}\n" + "".join(f"{rng.randint(1, hi)} {rng.randint(1, hi)}\n" for _ in range(t))


@problem(
    "gcd-lcm",
    "medium",
    "The first line holds t, followed by t lines each holding two positive integers a and b (up to "
    "10^12). For each line print gcd(a, b) and lcm(a, b) separated by a space.",
    _gen_pairs,
)
def solve_gcd_lcm(data: str) -> str:
    import math

    tokens = list(map(int, data.split()[1:]))
    out = []
    for a, b in zip(tokens[0::2], tokens[1::2], strict=True):
        g = math.gcd(a, b)
        out.append(f"{g} {a // g * b}")
    return "\n".join(out) + "\n"


def _gen_limit(rng: random.Random, big: bool) -> str:
    return f"{rng.randint(0, 2_000_000 if big else 200)}\n"


@problem(
    "count-primes",
    "medium",
    "Read n (0 <= n <= 2 * 10^6). Print how many prime numbers are less than or equal to n.",
    _gen_limit,
)
def solve_count_primes(data: str) -> str:
    n = int(data.split()[0])
    if n < 2:
        return "0\n"
    sieve = bytearray([1]) * (n + 1)
    sieve[0] = sieve[1] = 0
    for i in range(2, int(n**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytearray(len(range(i * i, n + 1, i)))
    return f"{sum(sieve)}\n"


def _gen_runs(rng: random.Random, big: bool) -> str:
    t = _n(rng, big, 5, 2_000)
    lines = [
        "".join(rng.choice("ab") * rng.randint(1, 12) for _ in range(rng.randint(1, 60 if big else 6)))
        for _ in range(t)
    ]
    return f"{t}\n" + "\n".join(lines) + "\n"


@problem(
    "run-length",
    "medium",
    "The first line holds t, followed by t lines of lower-case letters. Encode each line by replacing "
    "each maximal run of one letter with the run's length followed by the letter (aaab -> 3a1b) and "
    "print the encodings, one per line.",
    _gen_runs,
)
def solve_run_length(data: str) -> str:
    out = []
    for line in data.split()[1:]:
        parts = []
        i = 0
        while i < len(line):
            j = i
            while j < len(line) and line[j] == line[i]:
                j += 1
            parts.append(f"{j - i}{line[i]}")
            i = j
        out.append("".join(parts))
    return "\n".join(out) + "\n"


def _gen_intervals(rng: random.Random, big: bool) -> str:
    n = _n(rng, big, 6, 50_000)
    span = 10**9 if big else 40
    rows = []
    for _ in range(n):
        a = rng.randint(0, span)
        rows.append(f"{a} {a + rng.randint(0, span // 10 + 3)}")
    return f"{n}\n" + "\n".join(rows) + "\n"


@problem(
    "merge-intervals",
    "medium",
    "The first line holds n, followed by n lines 'a b' (a <= b), each a closed interval [a, b]. Merge "
    "intervals that overlap or touch (share an endpoint) and print the merged intervals in increasing "
    "order, one 'a b' per line.",
    _gen_intervals,
)
def solve_merge_intervals(data: str) -> str:
    tokens = list(map(int, data.split()[1:]))
    merged: list[list[int]] = []
    for a, b in sorted(zip(tokens[0::2], tokens[1::2], strict=True)):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return "".join(f"{a} {b}\n" for a, b in merged)


def _gen_target(rng: random.Random, big: bool) -> str:
    n = _n(rng, big, 8, 100_000)
    return f"{n} {rng.randint(-10, 10)}\n{_ints(rng, n, -10, 10)}\n"


@problem(
    "pair-count",
    "medium",
    "The first line holds n and a target k; the second holds n integers. Print the number of index pairs "
    "i < j with a_i + a_j = k. n can be 10^5, so an O(n^2) scan is too slow.",
    _gen_target,
)
def solve_pair_count(data: str) -> str:
    tokens = list(map(int, data.split()))
    n, k = tokens[0], tokens[1]
    seen: dict[int, int] = {}
    count = 0
    for v in tokens[2 : 2 + n]:
        count += seen.get(k - v, 0)
        seen[v] = seen.get(v, 0) + 1
    return f"{count}\n"


def _gen_stack(rng: random.Random, big: bool) -> str:
    ops = []
    for _ in range(_n(rng, big, 10, 100_000)):
        kind = rng.choice(["push", "push", "pop", "top", "size"])
        ops.append(f"push {rng.randint(-99, 99)}" if kind == "push" else kind)
    return f"{len(ops)}\n" + "\n".join(ops) + "\n"


@problem(
    "stack-ops",
    "medium",
    "The first line holds n, followed by n commands on a stack of integers: 'push x', 'pop', 'top' or "
    "'size'. 'pop' removes and prints the top element; 'top' prints it without removing it; on an empty "
    "stack both print EMPTY. 'size' prints the number of elements. 'push' prints nothing.",
    _gen_stack,
)
def solve_stack_ops(data: str) -> str:
    lines = data.split("\n")
    stack: list[str] = []
    out = []
    for line in lines[1 : int(lines[0]) + 1]:
        parts = line.split()
        if parts[0] == "push":
            stack.append(parts[1])
        elif parts[0] == "size":
            out.append(str(len(stack)))
        elif not stack:
            out.append("EMPTY")
        else:
            out.append(stack.pop() if parts[0] == "pop" else stack[-1])
    return "".join(line + "\n" for line in out)


def _gen_bases(rng: random.Random, big: bool) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    rows = []
    for _ in range(_n(rng, big, 5, 5_000)):
        src, dst = rng.randint(2, 36), rng.randint(2, 36)
        value = rng.randint(0, 10 ** rng.randint(1, 30))
        digits = ""
        while True:
            digits = alphabet[value % src] + digits
            value //= src
            if not value:
                break
        rows.append(f"{digits} {src} {dst}")
    return f"{len(rows)}\n" + "\n".join(rows) + "\n"


@problem(
    "base-convert",
    "medium",
    "The first line holds t, followed by t lines 'digits from to': a non-negative number written in base "
    "`from` (2-36, digits 0-9 then A-Z). Print it in base `to` with upper-case digits and no leading zeros.",
    _gen_bases,
)
def solve_base_convert(data: str) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    tokens = data.split()[1:]
    out = []
    for i in range(0, len(tokens), 3):
        value = int(tokens[i], int(tokens[i + 1]))
        dst = int(tokens[i + 2])
        digits = ""
        while True:
            digits = alphabet[value % dst] + digits
            value //= dst
            if not value:
                break
        out.append(digits)
    return "\n".join(out) + "\n"


def _gen_anagrams(rng: random.Random, big: bool) -> str:
    rows = []
    for _ in range(_n(rng, big, 6, 10_000)):
        a = _word(rng, 1, 8, "abcde")
        b = "".join(rng.sample(a, len(a))) if rng.random() < 0.5 else _word(rng, len(a), len(a), "abcde")
        rows.append(f"{a} {b}")
    return f"{len(rows)}\n" + "\n".join(rows) + "\n"


@problem(
    "anagram-pairs",
    "medium",
    "The first line holds t, followed by t lines each holding two lower-case words. Print YES if the two "
    "words are anagrams of each other (same letters with the same counts), else NO.",
    _gen_anagrams,
)
def solve_anagram_pairs(data: str) -> str:
    tokens = data.split()[1:]
    return "".join(
        ("YES" if sorted(a) == sorted(b) else "NO") + "\n" for a, b in zip(tokens[0::2], tokens[1::2], strict=True)
    )


@problem(
    "longest-rise",
    "medium",
    "The first line holds n; the second holds n integers. Print the length of the longest run of "
    "consecutive positions where each number is strictly greater than the one before it (a single "
    "number is a run of length 1).",
    _gen_list,
)
def solve_longest_rise(data: str) -> str:
    from itertools import pairwise

    tokens = list(map(int, data.split()))
    values = tokens[1 : 1 + tokens[0]]
    best = cur = 1
    for a, b in pairwise(values):
        cur = cur + 1 if b > a else 1
        best = max(best, cur)
    return f"{best}\n"


# --- hard -------------------------------------------------------------------------------------------


def _gen_maze(rng: random.Random, big: bool) -> str:
    r, c = rng.randint(2, 300 if big else 7), rng.randint(2, 300 if big else 7)
    grid = [["#" if rng.random() < 0.3 else "." for _ in range(c)] for _ in range(r)]
    cells = rng.sample([(i, j) for i in range(r) for j in range(c)], 2)
    grid[cells[0][0]][cells[0][1]] = "S"
    grid[cells[1][0]][cells[1][1]] = "E"
    return f"{r} {c}\n" + "".join("".join(row) + "\n" for row in grid)


@problem(
    "maze-path",
    "hard",
    "The first line holds r and c, followed by r lines of c characters: '.' free, '#' wall, one 'S' "
    "(start) and one 'E' (end). Moving up, down, left or right between non-wall cells, print the fewest "
    "moves from S to E, or -1 if E cannot be reached.",
    _gen_maze,
)
def solve_maze_path(data: str) -> str:
    from collections import deque

    lines = data.split()
    r, c = int(lines[0]), int(lines[1])
    grid = lines[2 : 2 + r]
    start = next((i, j) for i in range(r) for j in range(c) if grid[i][j] == "S")
    dist = {start: 0}
    queue = deque([start])
    while queue:
        i, j = queue.popleft()
        if grid[i][j] == "E":
            return f"{dist[(i, j)]}\n"
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            ni, nj = i + di, j + dj
            if 0 <= ni < r and 0 <= nj < c and grid[ni][nj] != "#" and (ni, nj) not in dist:
                dist[(ni, nj)] = dist[(i, j)] + 1
                queue.append((ni, nj))
    return "-1\n"


def _gen_land(rng: random.Random, big: bool) -> str:
    r, c = rng.randint(1, 300 if big else 6), rng.randint(1, 300 if big else 6)
    density = rng.uniform(0.2, 0.6)
    return f"{r} {c}\n" + "".join(
        "".join("1" if rng.random() < density else "0" for _ in range(c)) + "\n" for _ in range(r)
    )


@problem(
    "islands",
    "hard",
    "The first line holds r and c, followed by r lines of c characters, '1' for land and '0' for water. "
    "Print the number of islands: groups of land cells connected up, down, left or right.",
    _gen_land,
)
def solve_islands(data: str) -> str:
    lines = data.split()
    r, c = int(lines[0]), int(lines[1])
    grid = lines[2 : 2 + r]
    seen = [[False] * c for _ in range(r)]
    count = 0
    for i in range(r):
        for j in range(c):
            if grid[i][j] == "1" and not seen[i][j]:
                count += 1
                seen[i][j] = True
                stack = [(i, j)]
                while stack:
                    y, x = stack.pop()
                    for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                        if 0 <= ny < r and 0 <= nx < c and grid[ny][nx] == "1" and not seen[ny][nx]:
                            seen[ny][nx] = True
                            stack.append((ny, nx))
    return f"{count}\n"


@problem(
    "lis",
    "hard",
    "The first line holds n; the second holds n integers. Print the length of the longest strictly "
    "increasing subsequence (not necessarily contiguous). n can be 10^5.",
    _gen_list,
)
def solve_lis(data: str) -> str:
    import bisect

    tokens = list(map(int, data.split()))
    tails: list[int] = []
    for v in tokens[1 : 1 + tokens[0]]:
        i = bisect.bisect_left(tails, v)
        tails[i : i + 1] = [v]
    return f"{len(tails)}\n"


def _gen_knapsack(rng: random.Random, big: bool) -> str:
    n = _n(rng, big, 6, 200)
    cap = rng.randint(1, 10_000 if big else 30)
    items = "".join(f"{rng.randint(1, cap)} {rng.randint(1, 1000)}\n" for _ in range(n))
    return f"{n} {cap}\n{items}"


@problem(
    "knapsack",
    "hard",
    "The first line holds n and a capacity W, followed by n lines 'weight value'. Each item can be taken "
    "at most once. Print the largest total value whose total weight is at most W.",
    _gen_knapsack,
)
def solve_knapsack(data: str) -> str:
    tokens = list(map(int, data.split()))
    n, cap = tokens[0], tokens[1]
    best = [0] * (cap + 1)
    for i in range(n):
        w, v = tokens[2 + 2 * i], tokens[3 + 2 * i]
        for c in range(cap, w - 1, -1):
            if best[c - w] + v > best[c]:
                best[c] = best[c - w] + v
    return f"{best[cap]}\n"


def _gen_strings(rng: random.Random, big: bool) -> str:
    a = _word(rng, 0, 1_000 if big else 8, "abc")
    b = _word(rng, 0, 1_000 if big else 8, "abc")
    return f"{a}\n{b}\n"


@problem(
    "edit-distance",
    "hard",
    "Read two lines, each a (possibly empty) string of lower-case letters. Print the minimum number of "
    "single-character insertions, deletions and substitutions that turn the first into the second.",
    _gen_strings,
)
def solve_edit_distance(data: str) -> str:
    lines = data.split("\n")
    a, b = lines[0], lines[1]
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return f"{prev[-1]}\n"


def _gen_dag(rng: random.Random, big: bool) -> str:
    n = _n(rng, big, 6, 20_000)
    m = rng.randint(0, min(3 * n, 60_000))
    order = list(range(1, n + 1))
    rng.shuffle(order)
    edges = []
    for _ in range(m):
        a, b = sorted(rng.sample(range(n), 2)) if n > 1 else (0, 0)
        if n > 1:
            edges.append((order[a], order[b]))
    if edges and rng.random() < 0.3:
        a, b = edges[0]
        edges.append((b, a))
    return f"{n} {len(edges)}\n" + "".join(f"{a} {b}\n" for a, b in edges)


@problem(
    "topo-order",
    "hard",
    "The first line holds n and m; each of the next m lines holds 'a b', meaning task a (1..n) must come "
    "before task b. Print an order of all n tasks on one line, separated by spaces, choosing the smallest "
    "available task number at every step; print CYCLE if no order exists.",
    _gen_dag,
)
def solve_topo_order(data: str) -> str:
    import heapq

    tokens = list(map(int, data.split()))
    n, m = tokens[0], tokens[1]
    indegree = [0] * (n + 1)
    edges: list[list[int]] = [[] for _ in range(n + 1)]
    for i in range(m):
        a, b = tokens[2 + 2 * i], tokens[3 + 2 * i]
        edges[a].append(b)
        indegree[b] += 1
    heap = [v for v in range(1, n + 1) if indegree[v] == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        v = heapq.heappop(heap)
        order.append(v)
        for w in edges[v]:
            indegree[w] -= 1
            if indegree[w] == 0:
                heapq.heappush(heap, w)
    return (" ".join(map(str, order)) if len(order) == n else "CYCLE") + "\n"


def _gen_graph(rng: random.Random, big: bool) -> str:
    n = _n(rng, big, 6, 20_000)
    m = rng.randint(0, min(4 * n, 80_000))
    edges = "".join(f"{rng.randint(1, n)} {rng.randint(1, n)} {rng.randint(0, 100)}\n" for _ in range(m))
    return f"{n} {m} {rng.randint(1, n)}\n{edges}"


@problem(
    "shortest-paths",
    "hard",
    "The first line holds n, m and a source s; each of the next m lines holds a directed edge 'u v w' "
    "with weight w >= 0 (nodes are 1..n). Print the shortest distance from s to each node 1..n on one "
    "line separated by spaces, with -1 for unreachable nodes.",
    _gen_graph,
)
def solve_shortest_paths(data: str) -> str:
    import heapq

    tokens = list(map(int, data.split()))
    n, m, s = tokens[0], tokens[1], tokens[2]
    adjacency: list[list[tuple[int, int]]] = [[] for _ in range(n + 1)]
    for i in range(m):
        u, v, w = tokens[3 + 3 * i : 6 + 3 * i]
        adjacency[u].append((v, w))
    dist = [-1] * (n + 1)
    heap = [(0, s)]
    while heap:
        d, u = heapq.heappop(heap)
        if dist[u] != -1:
            continue
        dist[u] = d
        for v, w in adjacency[u]:
            if dist[v] == -1:
                heapq.heappush(heap, (d + w, v))
    return " ".join(map(str, dist[1:])) + "\n"


def _gen_coins(rng: random.Random, big: bool) -> str:
    coins = sorted(rng.sample(range(1, 60 if big else 15), rng.randint(1, 6)))
    return f"{len(coins)} {rng.randint(0, 100_000 if big else 40)}\n{' '.join(map(str, coins))}\n"


@problem(
    "min-coins",
    "hard",
    "The first line holds k and an amount A; the second holds k distinct coin values. With unlimited "
    "coins of each value, print the fewest coins summing exactly to A, or -1 if impossible (0 for A = 0).",
    _gen_coins,
)
def solve_min_coins(data: str) -> str:
    tokens = list(map(int, data.split()))
    k, amount = tokens[0], tokens[1]
    coins = tokens[2 : 2 + k]
    unreachable = amount + 1
    best = [0] + [unreachable] * amount
    for a in range(1, amount + 1):
        best[a] = min((best[a - c] + 1 for c in coins if c <= a), default=unreachable)
    return f"{best[amount] if best[amount] < unreachable else -1}\n"


@problem(
    "inversions",
    "hard",
    "The first line holds n; the second holds n integers. Print the number of pairs i < j with "
    "a_i > a_j. n can be 10^5, so an O(n^2) scan is too slow.",
    _gen_list,
)
def solve_inversions(data: str) -> str:
    tokens = list(map(int, data.split()))
    values = tokens[1 : 1 + tokens[0]]

    def sort(items: list[int]) -> tuple[list[int], int]:
        if len(items) <= 1:
            return items, 0
        mid = len(items) // 2
        left, a = sort(items[:mid])
        right, b = sort(items[mid:])
        merged, count, i, j = [], a + b, 0, 0
        while i < len(left) and j < len(right):
            if left[i] <= right[j]:
                merged.append(left[i])
                i += 1
            else:
                merged.append(right[j])
                count += len(left) - i
                j += 1
        return merged + left[i:] + right[j:], count

    return f"{sort(values)[1]}\n"


def _gen_expressions(rng: random.Random, big: bool) -> str:
    def expr(depth: int) -> str:
        if depth == 0 or rng.random() < 0.3:
            return ("-" if rng.random() < 0.15 else "") + str(rng.randint(0, 20))
        left, right = expr(depth - 1), expr(depth - 1)
        text = f"{left} {rng.choice('+-*')} {right}"
        return f"({text})" if rng.random() < 0.4 else text

    rows = [expr(6 if big else 3) for _ in range(_n(rng, big, 5, 500))]
    return f"{len(rows)}\n" + "\n".join(rows) + "\n"


@problem(
    "evaluate",
    "hard",
    "The first line holds t, followed by t arithmetic expressions over integers with +, -, *, "
    "parentheses, spaces and unary minus directly before a number. Print the value of each, with the "
    "usual precedence (* before + and -, otherwise left to right).",
    _gen_expressions,
)
def solve_evaluate(data: str) -> str:
    def value(text: str) -> int:
        tokens = text.replace("(", " ( ").replace(")", " ) ").replace("*", " * ").split()
        pos = 0

        def expr() -> int:
            nonlocal pos
            total = term()
            while pos < len(tokens) and tokens[pos] in "+-":
                op = tokens[pos]
                pos += 1
                total = total + term() if op == "+" else total - term()
            return total

        def term() -> int:
            nonlocal pos
            total = atom()
            while pos < len(tokens) and tokens[pos] == "*":
                pos += 1
                total *= atom()
            return total

        def atom() -> int:
            nonlocal pos
            token = tokens[pos]
            pos += 1
            if token == "(":
                inner = expr()
                pos += 1
                return inner
            return int(token)

        return expr()

    lines = data.split("\n")
    return "".join(f"{value(line)}\n" for line in lines[1 : 1 + int(lines[0])])


__all__ = ["PROBLEMS", "Problem"]

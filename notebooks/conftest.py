"""nbval runs every analysis notebook on its defaults; the memo notebook reads a finished run's tables instead,
so it is tested through `perflab memo` on a run made in tests/test_memo.py."""

collect_ignore = ["90_memo.ipynb"]

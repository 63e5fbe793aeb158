"""Case assessment: the facts of one case read against the non-punishment pathway of its forum, step by step."""

"""`python -m rag`: the same as the `rag` command."""

from rag.faces.cli import main

if __name__ == "__main__":
    main()

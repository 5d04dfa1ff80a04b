"""The web chat: `python app.py` (same as `qa serve`). All logic lives in qa.web and qa.pipeline."""

from qa.web import main

if __name__ == "__main__":
    main()

"""The web chat: `python app.py [--host H] [--port P] [--auth USER:PASSWORD] [--seeds D] [--documents D] [--index D]`.

Same as `qa serve`: the chat (qa.web), REST and OpenAI-compatible routes (qa.server, qa.openai_api)
on one port, over one engine; options and their QA_* variables in `python app.py --help`.
"""

from qa.cli import app_main

if __name__ == "__main__":
    app_main(prog_name="app.py")

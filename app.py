"""The web chat: `python app.py [--host H] [--port P] [--auth USER:PASSWORD] [--seeds D] [--documents D] [--index D] [--log-level L] [--debug]`.

Same as `qa serve`: the chat (qa.web), REST and OpenAI-compatible routes (qa.server, qa.openai_api)
on one port, over one engine; options and their QA_* variables in `python app.py --help`. The port
and the folders are checked before anything loads (qa.startup): a port in use or a missing folder
is one `error: ...` line and exit status 2 at once, not minutes later.
"""

from qa.cli import app_main

if __name__ == "__main__":
    app_main(prog_name="app.py")

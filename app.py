"""The web chat: `python app.py [--host H] [--port P] [--auth USER:PASSWORD]` (same as `qa serve`).

UI wiring only: the chat lives in qa.web, the server (chat + REST + OpenAI routes on one port) in
qa.server, answers in qa.pipeline.
"""

from qa.server import main

if __name__ == "__main__":
    main()

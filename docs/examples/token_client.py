"""Call an app behind gradio-portal from Python with a personal access token.

    export GRADIO_PORTAL_TOKEN=gpp_...      # /account/tokens, or `gradio-portal tokens create`
    python token_client.py http://127.0.0.1:8000/app/ /greet '["Ada"]'

Prints each update of the event (a generator streams several) or its one result; a file output
is downloaded into gradio_client's download folder and printed as its local path.
"""

from __future__ import annotations

import json
import os
import sys

from gradio_client import Client


def main(argv: list[str]) -> int:
    if len(argv) < 2 or "GRADIO_PORTAL_TOKEN" not in os.environ:
        print(__doc__, file=sys.stderr)
        return 2
    url, endpoint, *rest = argv
    inputs = json.loads(rest[0]) if rest else []
    client = Client(
        url,
        headers={"Authorization": f"Bearer {os.environ['GRADIO_PORTAL_TOKEN']}"},
        verbose=False,
    )
    job = client.submit(*inputs, api_name=endpoint)
    streamed = False
    for update in job:  # a generator's updates, as they come
        streamed = True
        print(json.dumps(update))
    result = job.result()  # raises the app's error, if any
    if not streamed:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Run the demo ministries alone: `python -m connectors.demo [--port N]`."""

from __future__ import annotations

import argparse
import json
import threading

from connectors.demo.server import start_demo_ministries


def main() -> None:
    """Start the demo ministries and print the env the dataset files need."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="first port (0 = ephemeral)")
    args = parser.parse_args()
    demo = start_demo_ministries(args.host, args.port)
    print(json.dumps(demo.env, indent=2))  # noqa: T201 - command-line output
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        demo.stop()


if __name__ == "__main__":
    main()

"""The public import of the Python client: `from qa.client import Client, ClientError`.

The client lives in qa/serving/client.py (with the HTTP API it calls); this name stays stable.
It needs only httpx and the dataclasses of qa/types.py.
"""

from qa.serving.client import Client, ClientError

__all__ = ["Client", "ClientError"]

"""`python -m tests.llm_server GGUF PORT`: a real OpenAI-compatible server (llama.cpp's, through
the xllamacpp binding) on 127.0.0.1:PORT, for the openai backend's tests. Runs until killed."""

from __future__ import annotations

import sys
import time


def main() -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path, params.port = sys.argv[1], int(sys.argv[2])  # binds 127.0.0.1
    params.n_ctx, params.verbosity = 4096, 0
    params.model_alias = "smollm2"
    server = xllamacpp.Server(params)
    print(f"listening {server.listening_address}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()

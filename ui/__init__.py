"""The browser chat: Gradio wiring over `qa`, nothing else."""

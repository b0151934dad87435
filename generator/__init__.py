"""chatgpt-plugin-generator: start a ChatGPT plugin project in one command."""

__version__ = "0.1.0"

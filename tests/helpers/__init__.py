"""Helpers shared by the generator's tests; they hold no tests and no fixtures.

- `repos`: git repositories built in temporary directories (templates, projects), no network;
- `commands`: the real `plugin` and `copier` commands in subprocesses;
- `trees`: snapshots of file trees, and leftovers of a failed render;
- `rendering`: the real template rendered with Copier, and the rendered project's environment;
- `small_template`: a tiny, fully controlled template for the update stories.

The fixtures (git_home, template_repo, questionnaire, rendered projects) live in conftest.py.
"""

"""Regenerate docs/settings.md from the settings table: python scripts/gen_settings_doc.py"""

from pathlib import Path

from lightkeeper.settings import SETTINGS, SETTINGS_FILE

lines = [
    "# Settings",
    "",
    "Every setting comes from one table (`lightkeeper/settings.py`). Later sources win:",
    "",
    "1. the default below;",
    f"2. the workspace file `<home>/{SETTINGS_FILE}` (every setting but `home`);",
    "3. the environment variable (`LIGHTKEEPER_<NAME>`, plus any alias listed);",
    "4. a command-line flag (`--home`, `--database-url`, `--tracking-uri`; `up --host --port`).",
    "",
    "`lightkeeper settings` shows each value and where it came from.",
    "",
    "| setting | environment | type | default | meaning |",
    "|---|---|---|---|---|",
]
for s in SETTINGS:
    env = ", ".join(f"`{e}`" for e in s.env_names)
    default = "see meaning" if s.default is None else f"`{s.default}`"
    lines.append(f"| `{s.name}` | {env} | {s.type.__name__} | {default} | {s.help} |")
lines += [
    "",
    "Example `settings.yaml`:",
    "",
    "```yaml",
    "database_url: postgresql://lightkeeper:secret@db.internal:5432/lightkeeper",
    "tracking_uri: http://mlflow.internal:5000",
    "port: 8700",
    "```",
    "",
    "A PostgreSQL URL without a driver (`postgresql://...`) uses psycopg 3.",
    "Wrong values fail loudly and name the setting and where it came from.",
    "",
]
Path(__file__).parents[1].joinpath("docs", "settings.md").write_text("\n".join(lines))

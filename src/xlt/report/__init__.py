"""The study report: tables, figures, Markdown and self-contained HTML."""

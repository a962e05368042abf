"""One self-contained HTML page: every study's tables, figures and comparison."""

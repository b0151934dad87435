"""Reference servers the generated projects are measured against in the same load run."""

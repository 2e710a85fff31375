"""An independent witness for Consentry consent logs (C2SP formats, no Consentry code)."""

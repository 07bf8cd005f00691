"""A static-site generator for bilingual explainer microsites."""

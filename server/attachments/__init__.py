"""Content-addressed attachments (photos of certificates and visits)."""

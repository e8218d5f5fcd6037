"""The console's plumbing: pages, sessions and CSRF, forms, HTML errors."""

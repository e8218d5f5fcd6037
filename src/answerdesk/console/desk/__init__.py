"""Messages pages: agents pick an account and take messages; everyone reads their own."""

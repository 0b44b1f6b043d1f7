"""Survey forms as the server keeps them: published versions, the campaign's choice, XForms."""

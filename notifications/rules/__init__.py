"""Pure functions for the rules the provider enforces: identifiers, templates, dialing."""

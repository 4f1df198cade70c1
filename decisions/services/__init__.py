"""Service functions: the one way views, admin actions, commands, flows and the API change a decision."""

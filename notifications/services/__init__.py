"""Actions that change state, one module per area. Views, admin, commands, the webhook and jobs call these."""

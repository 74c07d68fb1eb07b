"""Forms, one module per area. Forms check shape; domain rules live in services and rules."""

"""Phone configuration as data: lines, menus, destinations, queues, prompts."""

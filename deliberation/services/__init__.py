"""Services: the domain's use cases. Each public function owns its transaction."""

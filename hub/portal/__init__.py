"""The developer portal: the public dataset catalogue and agency developers' access requests."""

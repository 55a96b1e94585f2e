"""The domain: models, services, threshold engine, import/export. No views here."""

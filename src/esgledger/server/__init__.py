"""The server face: ``esgledger serve`` runs :func:`esgledger.server.app.create_app` under
Uvicorn. Routes call one service function each; no business rule lives here."""

"""CPTS mode: the census of the territory's GPs who accept new patients, contact rounds,
2–3 proposals per patient (the matching module's ``propose``), GP departures anticipated,
communication material and the CPTS action card's indicators."""

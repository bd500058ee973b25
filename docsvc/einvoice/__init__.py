"""EN 16931 e-invoicing: the CII XML of a document, its validation, Factur-X embedding."""

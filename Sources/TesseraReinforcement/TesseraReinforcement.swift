// TesseraReinforcement: seed file, replaced as the module grows.

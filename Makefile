# sam build (BuildMethod: makefile) runs this in a copy of the project and packages $(ARTIFACTS_DIR).
# npm ci runs `prepare`, which is `npm run build`: the handler bundle and the peer database.
build-TransformFunction:
	npm ci --no-audit --no-fund
	cp dist/handler.mjs dist/handler.mjs.map dist/peer-data.bin dist/peer-data.NOTICE.txt "$(ARTIFACTS_DIR)/"

# The backfill worker (BackfillFunction): the same transform, its own bundle (it carries the S3 client).
build-BackfillFunction:
	npm ci --no-audit --no-fund
	cp dist/backfill-handler.mjs dist/backfill-handler.mjs.map dist/peer-data.bin dist/peer-data.NOTICE.txt "$(ARTIFACTS_DIR)/"

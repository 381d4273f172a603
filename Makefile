# sam build (BuildMethod: makefile) runs this in a copy of the project and packages $(ARTIFACTS_DIR).
# What SAM's esbuild builder would do with `UseNpmCi: true` and `Target: node22`, and the peer database it
# cannot build: `npm ci` (the lock file, exactly) runs `prepare`, which is `npm run build`, with the handler
# bundled for the function's runtime (HANDLER_TARGET: node22 for nodejs22.x; a test keeps them in step).
build-TransformFunction:
	HANDLER_TARGET=node22 npm ci --no-audit --no-fund
	cp dist/handler.mjs dist/handler.mjs.map dist/peer-data.bin dist/peer-data.NOTICE.txt "$(ARTIFACTS_DIR)/"

# The backfill worker (BackfillFunction): the same transform, its own bundle (it carries the S3 client).
build-BackfillFunction:
	npm ci --no-audit --no-fund
	cp dist/backfill-handler.mjs dist/backfill-handler.mjs.map dist/peer-data.bin dist/peer-data.NOTICE.txt "$(ARTIFACTS_DIR)/"

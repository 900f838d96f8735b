#!/bin/sh
# The page says which greeting it was started with, so a redeploy with new config can be seen.
sed "s/{{GREETING}}/${GREETING:-Hello}/" /www/index.html > /tmp/index.html && cp /tmp/index.html /www/index.html
echo "hello: serving on :8080 (greeting: ${GREETING:-Hello})"
exec httpd -f -v -p 8080 -h /www

#!/bin/bash
# Starts the app: PHP-FPM runs as the owner of the checkout, composer install and Doctrine
# migrations run when the app has them, then nginx serves in the foreground.
set -euo pipefail
cd /app
owner=$(stat -c %u /app)
fpm_flags=()
if [[ $owner == 0 ]]; then
  sed -i 's/^user = .*/user = root/; s/^group = .*/group = root/; s/^listen.owner = .*/listen.owner = www-data/' /etc/php/8.2/fpm/pool.d/www.conf
  fpm_flags=(--allow-to-run-as-root)
elif [[ $(id -u www-data) != "$owner" ]]; then
  usermod -o -u "$owner" www-data
fi
run_as_owner() { if [[ $owner == 0 ]]; then "$@"; else setpriv --reuid="$owner" --regid="$(stat -c %g /app)" --clear-groups "$@"; fi; }

if [[ -f composer.json ]]; then
  echo "nuvola-app: composer install" >&2
  run_as_owner env HOME=/tmp COMPOSER_HOME=/tmp/composer composer install --no-interaction --no-progress --prefer-dist >&2
fi
if [[ -f bin/console && -d migrations ]]; then
  echo "nuvola-app: doctrine:migrations:migrate" >&2
  run_as_owner php bin/console doctrine:migrations:migrate --no-interaction --allow-no-migration >&2
fi
mkdir -p /run/php
php-fpm8.2 "${fpm_flags[@]}" --daemonize
echo "nuvola-app: serving /app/public on port 80" >&2
exec nginx -g 'daemon off;'

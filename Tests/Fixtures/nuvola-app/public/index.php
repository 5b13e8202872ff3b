<?php
// The front controller: `/health` answers when the database does; `/` lists the products.
require dirname(__DIR__) . '/vendor/autoload.php';

use App\Database;

$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
try {
    $db = Database::connect(dirname(__DIR__));
    if ($path === '/health') {
        $db->query('SELECT 1');
        header('Content-Type: text/plain');
        echo "ok\n";
        return;
    }
    $rows = $db->query('SELECT name, price_cents FROM product ORDER BY id')->fetchAll(PDO::FETCH_ASSOC);
} catch (Throwable $error) {
    http_response_code(503);
    header('Content-Type: text/plain');
    echo 'database unavailable: ' . $error->getMessage() . "\n";
    return;
}
header('Content-Type: text/html; charset=utf-8');
echo "<!doctype html>\n<title>Nuvola</title>\n<h1>Nuvola products</h1>\n<ul>\n";
foreach ($rows as $row) {
    printf("<li>%s — %.2f €</li>\n", htmlspecialchars($row['name']), $row['price_cents'] / 100);
}
echo "</ul>\n";

<?php

namespace App;

/** Opens the database named by DATABASE_URL (environment first, then .env.local, then .env). */
final class Database
{
    public static function url(string $root): string
    {
        $fromEnvironment = getenv('DATABASE_URL');
        if ($fromEnvironment !== false && $fromEnvironment !== '') {
            return $fromEnvironment;
        }
        foreach (['.env.local', '.env'] as $file) {
            $path = $root . '/' . $file;
            if (is_readable($path) && preg_match('/^DATABASE_URL="?([^"\n]+)"?$/m', file_get_contents($path), $match)) {
                return $match[1];
            }
        }
        throw new \RuntimeException('DATABASE_URL is not set');
    }

    public static function connect(string $root): \PDO
    {
        $parts = parse_url(self::url($root));
        $dsn = sprintf('mysql:host=%s;port=%d;dbname=%s;charset=utf8mb4',
            $parts['host'], $parts['port'] ?? 3306, ltrim($parts['path'] ?? '', '/'));
        return new \PDO($dsn, urldecode($parts['user'] ?? ''), urldecode($parts['pass'] ?? ''), [
            \PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION,
            \PDO::ATTR_TIMEOUT => 3,
        ]);
    }
}

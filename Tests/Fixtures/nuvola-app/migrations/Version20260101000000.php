<?php
// The product catalogue.
return [
    'CREATE TABLE product (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(200) NOT NULL, price_cents INT NOT NULL) DEFAULT CHARSET=utf8mb4',
    "INSERT INTO product (name, price_cents) VALUES ('Cumulus subscription', 1900), ('Stratus add-on', 450), ('Nimbus support plan', 9900)",
];

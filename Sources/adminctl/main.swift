print("adminctl")
